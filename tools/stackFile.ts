/**
 * Stack files as the Pulumi CLI reads them, for the offline plan and `verify --config`: `Pulumi.<stack>.yaml`
 * parsed as Go's YAML v3 parses it (merge keys resolved), turned into flat config keys with their secret
 * flags, and refused with the key and the fix where the CLI and this reader would disagree, or where the
 * document cannot be config at all (an alias that contains itself, a number JSON cannot carry).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { didYouMean, excerpt } from "../stacks/checks";

/** The repository root (the parent of tools/). */
export const repoRoot = path.resolve(__dirname, "..");

/** Shown in place of a secret value, and given to the program for a `secure:` config value. */
export const redactedSecret = "[secret]";
/** A stack configuration: flat Pulumi config keys and which of them are secret. */
export interface StackConfig {
    readonly stack: string;
    readonly values: Readonly<Record<string, string>>;
    readonly secretKeys: readonly string[];
}

/** The configuration problem the program refused, with every line the validator reported. */
export class PlanRefused extends Error {
    constructor(
        message: string,
        public readonly problems: readonly string[],
    ) {
        super(message);
        this.name = "PlanRefused";
    }
}

/** Reads the project name and project-level config defaults from Pulumi.yaml. */
export function projectSettings(): { name: string; config: Record<string, unknown> } {
    const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
        name: string;
        config?: Record<string, unknown>;
    };
    return { name: doc.name, config: doc.config ?? {} };
}

/**
 * Turns a stack config document (the content of `Pulumi.<stack>.yaml`) into flat config the way the CLI
 * does: keys without a namespace get the project's, objects become JSON, and any key holding a `secure:`
 * value anywhere inside becomes a secret key whose secure values are opaque.
 */
export function stackConfigFromDocument(stack: string, doc: unknown, source: string): StackConfig {
    const project = projectSettings();
    const values: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const qualify = (k: string) => (k.includes(":") ? k : `${project.name}:${k}`);
    for (const [k, v] of Object.entries(project.config)) {
        const value = typeof v === "object" && v !== null && "value" in v ? v.value : v;
        if (value !== undefined) values[qualify(k)] = toConfigString(value, () => undefined);
    }
    if (doc !== null && doc !== undefined) {
        if (typeof doc !== "object" || Array.isArray(doc))
            throw new PlanRefused(`${source}: not a YAML map`, []);
        const problems: string[] = [];
        for (const key of Object.keys(doc)) {
            if (stackFileKeys.includes(key)) continue;
            const near = didYouMean(key, stackFileKeys);
            problems.push(
                `${source}: ${excerpt(key)} is not a key of a stack file; ` +
                    (near ? `did you mean \`${near}\`?` : `its keys are: ${stackFileKeys.join(", ")}`),
            );
        }
        const config = Object.hasOwn(doc, "config") ? ((doc as { config?: unknown }).config ?? {}) : {};
        if (typeof config !== "object" || config === null || Array.isArray(config)) {
            throw new PlanRefused(`${source}: \`config\` must be a map`, []);
        }
        // `mesh` and `istio-multicluster:mesh` are one key to Pulumi: given both, which one wins is not defined.
        const written = new Map<string, string>();
        for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
            const key = qualify(k);
            const other = written.get(key);
            if (other !== undefined) {
                problems.push(
                    `${source}: config keys ${excerpt(other)} and ${excerpt(k)} are both ${excerpt(key)}; ` +
                        `keep one of them`,
                );
            }
            written.set(key, k);
            for (const at of nonFinite(v, key)) {
                problems.push(
                    `${source}: \`${at}\` is not a finite number, which Pulumi config (JSON) cannot carry; ` +
                        "write a finite number, or remove the key",
                );
            }
            // A value encrypted whole (`pulumi config set --secret clusters ...`): the CLI decrypts it for the
            // program, the offline plan has no secrets provider to; its inside is not malformed, only unread.
            if (key.startsWith(`${project.name}:`) && isSecureValue(v)) {
                problems.push(
                    `${source}: ${excerpt(key)} is encrypted as a whole (\`secure:\`), which the offline plan ` +
                        "cannot read: it has no passphrase or secrets provider. `pulumi preview` decrypts it; " +
                        "to plan offline, set the value in plain text and keep only its key material secret " +
                        `(\`pulumi config set --secret --path '${key}...' < file\`)`,
                );
            }
            values[key] = toConfigString(v, () => secretKeys.add(key));
        }
        if (problems.length > 0) {
            throw new PlanRefused(
                `${source} is not a stack file Pulumi reads as meant:\n` +
                    problems.map((p) => `  - ${p}`).join("\n"),
                problems,
            );
        }
    }
    return { stack, values, secretKeys: [...secretKeys].sort() };
}

/** The top-level keys of a `Pulumi.<stack>.yaml` (Pulumi's project stack settings). */
const stackFileKeys = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/** `{ secure: ... }`: a config value the CLI encrypted. */
function isSecureValue(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).join() === "secure";
}

function toConfigString(value: unknown, onSecret: () => void): string {
    const opaque = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(opaque);
        if (typeof v === "object" && v !== null) {
            if (isSecureValue(v)) {
                onSecret();
                return redactedSecret;
            }
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, opaque(x)]));
        }
        return v;
    };
    const v = opaque(value);
    return typeof v === "string" ? v : JSON.stringify(v);
}

/** Loads `Pulumi.<stack>.yaml` from the repository root. */
export function loadStackFile(stack: string): StackConfig {
    const file = path.join(repoRoot, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file))
        throw new PlanRefused(`no stack file ${path.relative(process.cwd(), file)}`, []);
    return loadConfigFile(file, stack);
}

/** Loads any stack config file of the same shape. */
export function loadConfigFile(file: string, stack?: string): StackConfig {
    let doc: unknown;
    let parsed: YAML.Document.Parsed;
    try {
        // Pulumi reads stack files with Go's YAML v3, which resolves `<<` merge keys; so does the plan.
        parsed = YAML.parseDocument(fs.readFileSync(file, "utf8"), { merge: true });
        if (parsed.errors.length > 0) throw parsed.errors[0]!;
        doc = parsed.toJS();
    } catch (e) {
        // The parser's first line says what and where; the code frame after it would echo the file's text.
        throw new PlanRefused(`${file}: ${(e as Error).message.split("\n")[0]}`, []);
    }
    const numbers = numberProblems(parsed.contents, "");
    if (numbers.length > 0) {
        throw new PlanRefused(
            `${file} holds numbers the program would not read as written:\n` +
                numbers.map((p) => `  - ${p}`).join("\n"),
            numbers,
        );
    }
    const loop = aliasLoop(doc);
    if (loop !== undefined) {
        throw new PlanRefused(
            `${file}: ${loop} through a YAML alias (an *alias inside its own &anchor), which has no end; ` +
                "write the value out, or anchor a part that does not contain the alias",
            [],
        );
    }
    const name =
        stack ??
        path
            .basename(file)
            .replace(/^Pulumi\./, "")
            .replace(/\.ya?ml$/, "");
    return stackConfigFromDocument(name, doc, file);
}

/** The paths of every NaN or infinity in a value (YAML's `.nan`, `.inf`). */
function nonFinite(v: unknown, at: string): string[] {
    if (typeof v === "number") return Number.isFinite(v) ? [] : [at];
    if (Array.isArray(v)) return v.flatMap((x, i) => nonFinite(x, `${at}[${i}]`));
    if (typeof v === "object" && v !== null)
        return Object.entries(v).flatMap(([k, x]) => nonFinite(x, `${at}.${k}`));
    return [];
}

/** A config path as messages show it: the key under `config:`. */
const shownPath = (p: string) => `\`${p.replace(/^config\./, "") || "the document"}\``;

/**
 * Plain numbers the Pulumi CLI would not read as this reader does, each with its path and fix:
 * - an integer with a leading zero (`0443`): YAML 1.2 (this reader) reads 443, Go's YAML v3 (the CLI) takes
 *   it as octal, 291; `0o443` and `0x1bb` mean the same to both;
 * - `.nan` and `.inf`: config reaches the program as JSON, which has neither (the offline plan would see
 *   `null`, "not set").
 * Aliases are checked where their anchor is.
 */
function numberProblems(node: unknown, at: string): string[] {
    if (YAML.isMap(node))
        return node.items.flatMap((pair) => {
            const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
            return numberProblems(pair.value, at === "" ? key : `${at}.${key}`);
        });
    if (YAML.isSeq(node)) return node.items.flatMap((item, i) => numberProblems(item, `${at}[${i}]`));
    if (!YAML.isScalar(node) || typeof node.value !== "number" || node.type !== "PLAIN") return [];
    const source = node.source ?? "";
    if (!Number.isFinite(node.value)) {
        return [
            `${shownPath(at)}: ${source} is not a number Pulumi config can carry (it reaches the program as ` +
                "JSON, which has no NaN or infinity); write a finite number, or remove the key",
        ];
    }
    const zero = /^([-+]?)0([0-9]+)$/.exec(source);
    if (zero) {
        const octal = /^[0-7]+$/.test(zero[2]!)
            ? `octal, ${zero[1]}${parseInt(zero[2]!, 8)}`
            : "not a number";
        return [
            `${shownPath(at)}: ${source} has a leading zero: this plan reads ${node.value}, the Pulumi CLI ` +
                `(YAML 1.1) reads ${octal}; write ${node.value} (or 0o${zero[2]} for octal)`,
        ];
    }
    return [];
}

/**
 * The path of the first value that contains itself (`a: &x [*x]`: the YAML parser builds a cycle, on which
 * any walk of the config would recurse until the stack overflows); undefined when there is none. Shared
 * aliases that do not loop are fine.
 */
export function aliasLoop(doc: unknown): string | undefined {
    const open = new Map<object, string>();
    const shown = shownPath;
    const walk = (v: unknown, at: string): string | undefined => {
        if (typeof v !== "object" || v === null) return undefined;
        const outer = open.get(v);
        if (outer !== undefined) return `${shown(outer)} contains itself (at ${shown(at)})`;
        open.set(v, at);
        const entries = Array.isArray(v)
            ? v.map((x, i): [string, unknown] => [`${at}[${i}]`, x])
            : Object.entries(v).map(([k, x]): [string, unknown] => [at === "" ? k : `${at}.${k}`, x]);
        for (const [p, x] of entries) {
            const found = walk(x, p);
            if (found !== undefined) return found;
        }
        open.delete(v);
        return undefined;
    };
    return walk(doc, "");
}
