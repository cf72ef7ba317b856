/**
 * `mesh.istio`: the one-version shorthand (`version`, `revision`, `defaultTag`) or revisions side by side
 * (`revisions`, `tags`), and where the charts come from (`charts`). Skew rules come from Istio's support
 * policy (istio.io "Supported releases", ../shared/ISTIO-FACTS.md "Releases"): a control plane may be at most
 * one minor ahead of a proxy and never behind, so revisions installed together are at most one minor apart.
 */
import { excerpt, isObject, nameLimits } from "../checks";
import type { IstioSettings, NamedRevision } from "../core";
import { compareVersions, versionParts } from "../revisions";
import { configValue, Derived, exactSemver, Obj, prune, Reader } from "../reader";
import { chartsFor, isChartRepository, releaseNames } from "../values";
import { chartSourceProblems } from "./sources";

const exactWhat = "an exact version such as 1.30.3 (no ranges, no `latest`)";

/** Every name the program (and the charts it installs) derives from a revision. */
export function namesFromRevision(revision: string): Derived[] {
    return [
        {
            what: "the istiod Helm release",
            name: releaseNames.istiod(revision),
            limit: nameLimits.helmRelease,
            by: "Helm",
        },
        {
            what: "the istiod Service",
            name: `istiod-${revision}`,
            limit: nameLimits.dnsLabel,
            by: "Kubernetes",
        },
        {
            what: "the label value istio.io/rev",
            name: revision,
            limit: nameLimits.labelValue,
            by: "Kubernetes",
        },
    ];
}

/** Every name the istiod chart derives from a revision tag (`templates/revision-tags-svc.yaml`). */
function namesFromTag(tag: string): Derived[] {
    return [
        {
            what: "the tag's Service",
            name: `istiod-revision-tag-${tag}`,
            limit: nameLimits.dnsLabel,
            by: "Kubernetes",
        },
    ];
}

/** A revision name: a DNS label that is not `default` and whose derived names fit. */
function revisionName(r: Reader, obj: Obj, key: string, path: string, required: boolean): string | undefined {
    const name = r.dnsLabel(obj, key, path, required);
    if (name === "default") {
        return r.fail(
            `${path}.${key}`,
            "`default` is reserved by Istio for the default revision tag; " +
                (required ? "pick another name, such as 1-30-3" : "omit `revision` or pick another name"),
        );
    }
    if (name !== undefined && !r.derived(`${path}.${key}`, name, namesFromRevision(name))) return undefined;
    return name;
}

/** Reads `mesh.istio`; undefined when it is refused (the problems are in `r`). */
export function readIstio(r: Reader, istio: Obj, istioPath: string): IstioSettings | undefined {
    r.knownKeys(istio, istioPath, ["version", "revision", "defaultTag", "charts", "revisions", "tags"]);
    const charts = r.string(
        istio,
        "charts",
        istioPath,
        false,
        "set it to a Helm repository (https://, oci://) or a directory holding `base`, `istiod` and `gateway`",
    );
    const general = configValue(istio, "revisions") !== undefined;
    const settings = general ? readRevisions(r, istio, istioPath) : readShorthand(r, istio, istioPath);
    if (charts !== undefined) {
        const versions = [
            ...new Set((settings?.revisions ?? (settings ? [settings] : [])).map((s) => s.version)),
        ];
        if (versions.length > 1 && !charts.includes("{version}") && !isChartRepository(charts)) {
            r.fail(
                `${istioPath}.charts`,
                `a directory holds the charts of one version, and the revisions run ${versions.join(" and ")}; ` +
                    "write `{version}` in the path where the version goes (such as ./charts/istio-{version})",
            );
        } else {
            for (const version of versions.length > 0 ? versions : [undefined]) {
                const source = version === undefined ? charts : chartsFor(charts, version);
                for (const problem of chartSourceProblems(source, version))
                    r.fail(`${istioPath}.charts`, problem);
            }
        }
    }
    return settings && prune({ ...settings, charts });
}

/** `version`, optional `revision` and `defaultTag`: one control plane. */
function readShorthand(r: Reader, istio: Obj, istioPath: string): IstioSettings | undefined {
    const version = r.matching(istio, "version", istioPath, true, (s) => exactSemver.test(s), exactWhat);
    const revision = revisionName(r, istio, "revision", istioPath, false);
    let defaultTag: boolean | undefined;
    if (configValue(istio, "tags") !== undefined) {
        r.fail(
            `${istioPath}.tags`,
            "only with `revisions`; with one `revision`, `defaultTag` says whether it carries the `default` tag",
        );
    }
    // The `default` revision tag (issue 7): only a revision can carry it.
    if (configValue(istio, "defaultTag") !== undefined) {
        defaultTag = r.boolean(istio, "defaultTag", istioPath, true);
        if (defaultTag && configValue(istio, "revision") === undefined) {
            r.fail(
                `${istioPath}.defaultTag`,
                "only with `revision`: without one the install already is the default; remove `defaultTag`",
            );
        }
    }
    if (version === undefined) return undefined;
    return prune({ version, revision, defaultTag });
}

/** `revisions` and `tags`: control planes side by side, the `default` tag naming the serving one. */
function readRevisions(r: Reader, istio: Obj, istioPath: string): IstioSettings | undefined {
    for (const key of ["version", "revision", "defaultTag"]) {
        if (configValue(istio, key) !== undefined) {
            r.fail(
                `${istioPath}.${key}`,
                "`revisions` replaces `version`, `revision` and `defaultTag`; remove it (the one-version form " +
                    "`version: V, revision: R` is `revisions: [{ name: R, version: V }]` with `tags: { default: R }`)",
            );
        }
    }
    const path = `${istioPath}.revisions`;
    const list = configValue(istio, "revisions");
    if (!Array.isArray(list) || list.length === 0) {
        return r.fail(
            path,
            `must be a non-empty list of { name, version }, oldest first, got ${excerpt(list)}`,
        );
    }
    const revisions: NamedRevision[] = [];
    const firstIndex = new Map<string, number>();
    let ok = true;
    list.forEach((entry: unknown, i) => {
        const at = `${path}[${i}]`;
        if (!isObject(entry)) {
            ok = false;
            r.fail(at, `must be a map { name, version }, got ${excerpt(entry)}`);
            return;
        }
        r.knownKeys(entry, at, ["name", "version"]);
        const name = revisionName(r, entry, "name", at, true);
        const version = r.matching(entry, "version", at, true, (s) => exactSemver.test(s), exactWhat);
        if (name !== undefined && firstIndex.has(name)) {
            r.fail(`${at}.name`, `${excerpt(name)} is already listed at revisions[${firstIndex.get(name)!}]`);
            ok = false;
        } else if (name !== undefined && version !== undefined) {
            firstIndex.set(name, i);
            revisions.push({ name, version });
        } else ok = false;
    });
    if (revisions.length > 1) {
        const versions = revisions.map((v) => v.version).sort(compareVersions);
        const [oldest, newest] = [versions[0]!, versions[versions.length - 1]!];
        const [o, n] = [versionParts(oldest), versionParts(newest)];
        if (o[0] !== n[0] || n[1] - o[1] > 1) {
            ok = false;
            r.fail(
                path,
                `runs ${oldest} beside ${newest}: Istio supports control planes at most one minor apart (a proxy ` +
                    "may be one minor behind its control plane, never more); upgrade one minor at a time, removing " +
                    "the oldest revision first",
            );
        }
    }
    const tags = readTags(r, istio, istioPath, [...firstIndex.keys()]);
    if (!ok || tags === undefined) return undefined;
    const serving = revisions.find((v) => v.name === tags.default)!;
    return { version: serving.version, revision: serving.name, revisions, tags };
}

/** `tags`: tag → revision name; `default` required; every tag names a listed revision. */
function readTags(
    r: Reader,
    istio: Obj,
    istioPath: string,
    names: readonly string[],
): Record<string, string> | undefined {
    const path = `${istioPath}.tags`;
    const raw = configValue(istio, "tags");
    const hint = names.length > 0 ? names.join(", ") : "none valid";
    if (raw === undefined) {
        return r.fail(
            path,
            `required with \`revisions\`; set at least \`default\`: the revision that injects ` +
                `\`istio-injection=enabled\` namespaces and that the gateways run on (one of: ${hint})`,
        );
    }
    if (!isObject(raw)) return r.fail(path, `must be a map of tag to revision name, got ${excerpt(raw)}`);
    const tags: Record<string, string> = {};
    let ok = true;
    for (const tag of Object.keys(raw)) {
        const value = configValue(raw, tag);
        if (value === undefined) continue;
        const at = /^[A-Za-z0-9_-]{1,80}$/.test(tag) ? `${path}.${tag}` : `${path}[${excerpt(tag)}]`;
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tag)) {
            ok = false;
            r.fail(at, "a tag name must be a DNS label (lower-case letters, digits and '-')");
            continue;
        }
        if (!r.derived(at, tag, namesFromTag(tag))) {
            ok = false;
            continue;
        }
        if (names.includes(tag)) {
            ok = false;
            r.fail(
                at,
                `is also a revision's name; a tag and a revision share the label istio.io/rev: rename the tag`,
            );
            continue;
        }
        if (typeof value !== "string" || !names.includes(value)) {
            ok = false;
            const what =
                tag === "default"
                    ? " (and with it the gateways and every `istio-injection=enabled` namespace)"
                    : "";
            r.fail(
                at,
                `${excerpt(value)} is not a revision of \`revisions\` (${hint}); the tag${what} must name an ` +
                    "installed revision: move the tag before removing its revision",
            );
            continue;
        }
        tags[tag] = value;
    }
    if (ok && tags.default === undefined) {
        r.fail(
            path,
            `needs \`default\`: the revision that injects \`istio-injection=enabled\` namespaces and that the ` +
                `gateways run on (one of: ${hint})`,
        );
        return undefined;
    }
    return ok ? tags : undefined;
}
