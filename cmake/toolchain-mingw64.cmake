# Cross-compiling for 64-bit Windows with mingw-w64 (Debian: gcc-mingw-w64-x86-64), used by the
# mingw preset. Programs run under Wine in the tests (tests/dbghelp).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(HG_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${HG_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${HG_MINGW_TRIPLE}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${HG_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR wine)
