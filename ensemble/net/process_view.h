// What four-letter words report about the process and its disk: sizes of the
// data directories, file descriptors, resident memory, the environment.
#pragma once

#include "ensemble/net/client_front_end.h"
#include "ensemble/net/data_store.h"
#include "ensemble/net/four_letter_words.h"

namespace corral::ensemble {

void fill_process_view(ServerView& view, const DataStore& store, const ClientFrontEnd& front);

}  // namespace corral::ensemble
