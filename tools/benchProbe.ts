/**
 * Loaded into each process the bench times (`--import`): on exit, writes the process's peak resident memory
 * (KiB) to the file `$BENCH_PROBE` names, so that the bench reads it from the process itself rather than
 * from a tool (`/usr/bin/time`) the machine may lack.
 */
import * as fs from "node:fs";

const out = process.env.BENCH_PROBE;
if (out) {
    process.on("exit", () => {
        fs.writeFileSync(out, JSON.stringify({ maxRSSKiB: process.resourceUsage().maxRSS }));
    });
}
