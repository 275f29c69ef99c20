// The one libstdc++ 3.4.32 (GCC 13) symbol that TorchSharp's libLibTorchSharp.so needs and Debian 12's
// libstdc++ (GCC 12, up to GLIBCXX_3.4.30) lacks. GCC 13 calls it from every translation unit that
// includes <iostream> to make sure the standard streams are initialised; GCC 12 does the same through
// std::ios_base::Init objects, which is what this does.
#include <ios>

namespace std {
__attribute__((visibility("default"))) void ios_base_library_init() {
    static ios_base::Init init;
}
}  // namespace std
