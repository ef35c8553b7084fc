# Warnings every mxdp target is built with (targets opt in with mxdp_warnings()).
# -Wnull-dereference is left out: g++ 12 reports false positives inside
# libstdc++'s std::string at -O1 (the tsan preset).
add_library(mxdp_warnings INTERFACE)
target_compile_options(mxdp_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
