# The Windows build (preset mingw, docs/dbghelp.md): base/, symbols/ with the DbgHelp backend,
# and heapgate-symbolize. The symbolizer's Judy arrays come from symbols/judy_win.c, since no
# libJudy exists for mingw-w64; tests run under Wine from the native build (tests/dbghelp).
add_compile_definitions(_WIN32_WINNT=0x0601 __USE_MINGW_ANSI_STDIO=1)
# printf formats (%zu, %llx) are C99's through __USE_MINGW_ANSI_STDIO, but mingw's GCC checks
# format(printf) attributes against msvcrt's older printf: the native build checks them instead
add_compile_options(-Wno-format)
# one self-contained .exe: no libgcc or libwinpthread DLL to ship or find
add_link_options(-static)
add_library(hg_judy_win STATIC symbols/judy_win.c)
target_include_directories(hg_judy_win PUBLIC ${PROJECT_SOURCE_DIR}/symbols/win)
add_library(Judy::Judy ALIAS hg_judy_win)
add_subdirectory(base)
add_subdirectory(symbols)
add_subdirectory(symbolize)
