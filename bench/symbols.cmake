# The symbolization benchmark lives in bench/symbols/ (bench/symbols/README.md).
add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/symbols ${CMAKE_CURRENT_BINARY_DIR}/symbols)
