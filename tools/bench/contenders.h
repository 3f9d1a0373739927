// Spreading recipe participants over sessions: participant p runs on session
// p % sessions, so N participants over S sessions use ceil(N/S) fibers on
// the busiest session.
#pragma once

#include "tools/bench/workload.h"

namespace corral::bench {

inline int fibers_for(int participants, int sessions) { return (participants + sessions - 1) / sessions; }

// The participant this worker plays, or -1 if it has none (it returns at once).
inline int participant_of(const Worker& w, int participants) {
  const int p = w.fiber * w.run.options().sessions + w.session;
  return p < participants ? p : -1;
}

}  // namespace corral::bench
