# The ETL reader's benchmark lives in bench/etl/ (see bench/etl/README.md).
include(${CMAKE_CURRENT_LIST_DIR}/etl/etl.cmake)
