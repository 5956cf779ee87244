# The foundation's benchmark tools (bench/README.md, "Foundation (issue 2)"):
#   hgbench_gen   writes a workload as a .hgt trace
#   hgbench_mem   feeds a trace to a tracker, reports events/s and memory per live block
#   workload_a    the same workload as a real program, for heaptrack to record
add_library(hg_bench_workload STATIC workload.c)
target_include_directories(hg_bench_workload PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})

add_executable(hgbench_gen hgbench_gen.c simheap.c)
target_link_libraries(hgbench_gen PRIVATE hg_bench_workload hg_formats hg_tracker hg_base)

add_executable(hgbench_mem hgbench_mem.c)
target_link_libraries(hgbench_mem PRIVATE hg_formats hg_tracker hg_base)

# -O2 -g whatever the build type; no sibling calls, so each call path keeps its frames.
add_executable(workload_a workload_a.c workload.c)
target_compile_options(workload_a PRIVATE -O2 -g -fno-optimize-sibling-calls
                       -fno-omit-frame-pointer)
