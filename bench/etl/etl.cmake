# The ETL ingest benchmark (bench/etl/README.md): etl_bench writes a large heap trace with the
# test ETL writer (tests/etl/etlw.c) and times a plain read of it against hg_etl_read.
add_executable(etl_bench ${CMAKE_CURRENT_LIST_DIR}/etl_bench.c
               ${PROJECT_SOURCE_DIR}/tests/etl/etlw.c ${PROJECT_SOURCE_DIR}/tests/etl/etlw_lz77.c)
target_include_directories(etl_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/etl)
target_link_libraries(etl_bench PRIVATE hg_formats hg_tracker)
