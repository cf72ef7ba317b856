/**
 * Where the charts tier finds the observability charts: `$OBSERVABILITY_CHARTS_DIR`, else
 * `../shared/observability-charts` next to the repository, holding each pinned chart as Helm packages it,
 * `<chart>-<version>.tgz` (what `helm pull` writes; tools/observability-charts.sh fetches them).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ChartPin } from "../../stacks/observability";

const repoRoot = path.resolve(__dirname, "..", "..");

/** The env variable naming the charts directory. */
export const chartsDirEnv = "OBSERVABILITY_CHARTS_DIR";

/** The charts directory, whether or not it exists, and where its path came from. */
export function chartsDirLocation(): { dir: string; fromEnv: boolean } {
    const fromEnv = process.env[chartsDirEnv];
    return fromEnv !== undefined && fromEnv !== ""
        ? { dir: path.resolve(fromEnv), fromEnv: true }
        : { dir: path.resolve(repoRoot, "..", "shared", "observability-charts"), fromEnv: false };
}

/**
 * The charts directory. Throws when it is missing: a chart test that silently skips would pass while
 * checking nothing.
 */
export function observabilityChartsDir(): string {
    const { dir, fromEnv } = chartsDirLocation();
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new Error(
            `observability charts not found at ${dir}` +
                (fromEnv ? ` (from \`${chartsDirEnv}\`)` : "") +
                `: set \`${chartsDirEnv}\` to a directory holding <chart>-<version>.tgz for each pinned chart.`,
        );
    }
    return dir;
}

/** The packaged chart of `pin` in the charts directory; throws, naming the file, when it is missing. */
export function chartArchive(pin: ChartPin): string {
    const file = path.join(observabilityChartsDir(), `${pin.chart}-${pin.version}.tgz`);
    if (!fs.existsSync(file)) {
        throw new Error(
            `${file} is missing: fetch it with \`helm pull ${pin.chart} --repo ${pin.repository} --version ` +
                `${pin.version}\` (or run tools/observability-charts.sh)`,
        );
    }
    return file;
}
