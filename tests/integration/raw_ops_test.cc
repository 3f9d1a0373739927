#include "tests/integration/fixture.h"
