# Build-wide instrumentation for robustness checks. Applied before any target is defined,
# so the library, the command line, the tests and the fuzz targets share the same flags.
option(WARDGATE_SANITIZE "Build everything with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(WARDGATE_FUZZ "Build the libFuzzer targets under fuzz/ (clang only)" OFF)

if(WARDGATE_SANITIZE)
  # Any undefined behaviour aborts the process, so a test or fuzz run cannot pass over it.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(WARDGATE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WARDGATE_FUZZ needs clang (libFuzzer): configure with CMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage instrumentation everywhere; only the fuzz targets link the libFuzzer driver.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

