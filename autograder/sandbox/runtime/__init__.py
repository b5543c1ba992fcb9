"""The code copied into the jail's /runtime and run there (see ``worker.py``); the grader
imports only ``proc_table`` from it."""
