/**
 * Run before the charts tier: when the observability charts are missing, say so in one line, with how to get
 * them, instead of one stack trace per test. Exit 1 then, so a run without the charts never reads as passed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { chartDefaults } from "../../stacks/observability";
import { chartsDirEnv, observabilityChartsDir } from "./chartsDir";

try {
    const dir = observabilityChartsDir();
    const missing = Object.values(chartDefaults)
        .map((pin) => `${pin.chart}-${pin.version}.tgz`)
        .filter((file) => !fs.existsSync(path.join(dir, file)));
    if (missing.length > 0) throw new Error(`${dir} lacks ${missing.join(", ")}: ...`);
} catch (e) {
    const reason = e instanceof Error ? e.message.split(":")[0] : String(e);
    process.stderr.write(
        `charts: ${reason}. Set ${chartsDirEnv} to a directory with the pinned charts as <chart>-<version>.tgz, ` +
            "or run tools/observability-charts.sh (needs network) to helm pull them into ../shared/observability-charts.\n",
    );
    process.exit(1);
}
