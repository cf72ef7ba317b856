/**
 * What every command's exit code means, stated once (README, "Commands and exit codes"): `plan`, `verify`,
 * `bench`, `clusters` and `demo` all follow it, and each one's `--help` ends with this text.
 */
export const exitCode = {
    /** It did what was asked: planned with no mandatory violation, every check passed, clusters up. */
    done: 0,
    /** It ran and the answer is no: a mandatory policy violated, a check failed, a process did not come up. */
    failed: 1,
    /** Refused before anything ran: the command line, the config or the machine; every problem on stderr. */
    refused: 2,
} as const;

export const exitCodesHelp = [
    "Exit codes (the same for every command): 0 done; 1 it ran and failed (a mandatory policy violated, a",
    "check failed, a process did not come up); 2 refused before anything ran (the command line, the config",
    "or the machine; every problem on stderr).",
].join("\n");

/** `--help` or `-h` anywhere on the command line. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.some((a) => a === "--help" || a === "-h");
