/**
 * `mesh.readerTokens`: when the reader tokens the remote secrets carry are replaced. The floor for an
 * unattended (age-based) rotation comes from ../shared/ISTIO-FACTS.md "Releases": before 1.30.4, istiod could
 * lose a remote cluster's endpoints or network gateway after that cluster's remote secret changed
 * (istio/istio#60612, #60920, #61043), so a rotation nobody watches waits for that release.
 */
import { excerpt, isObject } from "../checks";
import type { IstioSettings, ReaderTokenSettings } from "../core";
import { compareVersions } from "../revisions";
import { configValue, Obj, prune, Reader } from "../reader";

/** The first Istio release whose istiod reloads a changed remote secret without losing what it had. */
export const tokenRotationFloor = "1.30.4";

/** The longest age period: ten years, longer than any token should live. */
const maxAgeDaysLimit = 3650;

/** Reads `mesh.readerTokens`; undefined when absent or refused. */
export function readReaderTokens(
    r: Reader,
    mesh: Obj,
    meshPath: string,
    istio: IstioSettings | undefined,
): ReaderTokenSettings | undefined {
    const raw = configValue(mesh, "readerTokens");
    const path = `${meshPath}.readerTokens`;
    if (raw === undefined) return undefined;
    if (!isObject(raw))
        return r.fail(path, `must be a map with \`rotation\` and/or \`maxAgeDays\`, got ${excerpt(raw)}`);
    r.knownKeys(raw, path, ["rotation", "maxAgeDays"]);
    let rotation: string | undefined;
    const given = configValue(raw, "rotation");
    if (given !== undefined) {
        const text = typeof given === "number" ? String(given) : given;
        if (typeof given === "number" && (!Number.isSafeInteger(given) || given < 0)) {
            r.fail(
                `${path}.rotation`,
                `must be a whole number of at least 0 or a date (2026-12-07), got ${excerpt(given)}`,
            );
        } else if (typeof text !== "string" || !(/^\d{1,10}$/.test(text) || isDate(text))) {
            r.fail(
                `${path}.rotation`,
                `must be a whole number of at least 0 or a date (2026-12-07), got ${excerpt(given)}; ` +
                    "change it to issue new reader tokens at the next `up`",
            );
        } else rotation = text;
    }
    const maxAgeDays = r.integer(raw, "maxAgeDays", path, 1, undefined, maxAgeDaysLimit, " (ten years)");
    if (maxAgeDays !== undefined && istio !== undefined) {
        const old = (istio.revisions ?? [istio]).filter(
            (v) => compareVersions(v.version, tokenRotationFloor) < 0,
        );
        if (old.length > 0) {
            r.fail(
                `${path}.maxAgeDays`,
                `an unattended rotation needs Istio ${tokenRotationFloor} or later in every revision (this mesh runs ` +
                    `${old.map((v) => v.version).join(", ")}): before it, istiod could lose a remote cluster's ` +
                    "endpoints or network gateway when its remote secret changed (istio/istio#60612, #60920, " +
                    "#61043); upgrade first, or rotate with `rotation` and check `npm run verify` after the `up`",
            );
            return undefined;
        }
    }
    const settings = prune({ rotation, maxAgeDays });
    return Object.keys(settings).length > 0 ? settings : undefined;
}

/** A calendar date written YYYY-MM-DD that exists. */
function isDate(text: string): boolean {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
    const d = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}
