/**
 * The Node.js releases the program supports, stated once: package.json's `engines` says the same range (a
 * test checks it), and every entry point (index.ts under the Pulumi CLI, each `npm run` tool, the test
 * tiers) refuses an older Node.js with one line before anything else runs, instead of an obscure failure
 * deep inside a dependency.
 *
 * Node.js 20 reached its end of life in April 2026 and @pulumi/pulumi 3.276.0 asks for `>=22`; 23 is an odd
 * (never LTS) line that ended in June 2025. 22 and 24 are the LTS lines CI runs; 26, the newest, passed
 * `npm test` by hand.
 */

/** package.json's `engines.node`. */
export const supportedNode = "^22.13.0 || >=24";

/** Why this Node.js version cannot run the program, in one line; undefined when it can. */
export function nodeVersionProblem(version: string): string | undefined {
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
    const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
    if (major >= 24 || (major === 22 && minor >= 13)) return undefined;
    return (
        `istio-multicluster needs Node.js 22.13 or later, 22 or 24 LTS (package.json engines "${supportedNode}"); ` +
        `this is Node.js ${version.startsWith("v") ? version : `v${version}`}: install a supported release ` +
        "(`nvm install` reads .nvmrc) and run `npm ci` again"
    );
}
