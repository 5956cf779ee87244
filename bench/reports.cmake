# The report-writing benchmark: bench/reports/ (README.md there).
add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/reports ${CMAKE_CURRENT_BINARY_DIR}/reports)
