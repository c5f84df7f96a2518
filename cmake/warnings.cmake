# INTERFACE targets carrying compile settings; linked privately so they never leak to users.
add_library(cosmos_warnings INTERFACE)
target_compile_options(cosmos_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(COSMOS_WERROR)
  target_compile_options(cosmos_warnings INTERFACE -Werror)
endif()

add_library(cosmos_settings INTERFACE)
target_compile_features(cosmos_settings INTERFACE cxx_std_20)
# COSMOS_FUZZ=ON (clang only) adds libFuzzer's coverage instrumentation to every object and builds
# the targets under fuzz/; it implies AddressSanitizer + UndefinedBehaviorSanitizer, so one such
# build dir also runs the unit and integration tests under those sanitizers (docs/testing.md).
if(COSMOS_FUZZ AND NOT COSMOS_SANITIZE)
  set(COSMOS_SANITIZE "address,undefined" CACHE STRING "" FORCE)
endif()
if(COSMOS_SANITIZE)
  # UBSan findings abort (a test fails) instead of printing and going on. -O0 with line tables
  # only (after the build type's -O2 -g, so they win): stacks still name files and lines, and a
  # source compiles in about 55% of the CPU time of -O1 -g (measured on config_parse.cpp with
  # clang 14); the build, not the tests, is what these runs spend most on (docs/testing.md).
  target_compile_options(cosmos_settings INTERFACE -fsanitize=${COSMOS_SANITIZE}
                         -fno-sanitize-recover=all -fno-omit-frame-pointer -O0 -g1)
  target_link_options(cosmos_settings INTERFACE -fsanitize=${COSMOS_SANITIZE}
                      -fno-sanitize-recover=all)
endif()
if(COSMOS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "COSMOS_FUZZ=ON needs clang (libFuzzer): CXX=clang++ cmake ...")
  endif()
  target_compile_options(cosmos_settings INTERFACE -fsanitize=fuzzer-no-link)
endif()
