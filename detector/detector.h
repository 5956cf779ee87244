/* detector.h - the heapgate command: subcommands, options, gate and exit codes. */
#ifndef HG_DETECTOR_H
#define HG_DETECTOR_H

/* Exit statuses (README "Exit status"). */
enum { HG_EXIT_PASS = 0, HG_EXIT_GATE_FAILED = 1, HG_EXIT_ERROR = 2 };

/* Runs the command line; returns the process exit status. */
int hg_main(int argc, char **argv);

#endif
