# Warnings every mxdp target is built with (targets opt in with mxdp_warnings()).
add_library(mxdp_warnings INTERFACE)
target_compile_options(mxdp_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
