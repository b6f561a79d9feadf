// libFuzzer's start-up hook, once for every fuzz target (each links this file).

#include "fuzzsupport.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    FuzzSupport::initialize();
    return 0;
}
