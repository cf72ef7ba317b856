/**
 * The topology diagram: exact Mermaid for the dev stack and for the shapes the stacks do not show (one network,
 * an address known only after apply, names that need escaping), and the README's diagrams are the tool's.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { mermaidBlock, mermaidTopology } from "../../tools/mermaid";
import { loadStackFile, plan, repoRoot } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";

describe("mermaid topology", () => {
    it("dev: networks as subgraphs, roles, gateways with their addresses, control and read edges", async () => {
        const p = await plan(loadStackFile("dev"));
        assert.equal(
            mermaidTopology(p.outputs),
            [
                "flowchart LR",
                '    subgraph n0["network network1"]',
                '        c_cluster1["cluster1<br/>primary"]',
                '        c_cluster1_ew[/"east-west gateway<br/>172.18.0.2"/]',
                "        c_cluster1 --- c_cluster1_ew",
                "    end",
                '    subgraph n1["network network2"]',
                '        c_cluster2["cluster2<br/>remote"]',
                '        c_cluster2_ew[/"east-west gateway<br/>172.18.0.3"/]',
                "        c_cluster2 --- c_cluster2_ew",
                "    end",
                "    c_cluster2 -->|control plane| c_cluster1",
                "    c_cluster1 -.->|reads| c_cluster2",
                "",
            ].join("\n"),
        );
    });

    it("one network: no subgraph, no gateway where none runs, an unknown address said so, two-way reads", async () => {
        const p = await plan(
            stackConfig(mesh(), [
                primary("p-1"),
                primary("p2"),
                remote("r1", "p-1", undefined, { eastWest: { serviceType: "LoadBalancer" } }),
            ]),
        );
        assert.equal(
            mermaidTopology(p.outputs),
            [
                "flowchart LR",
                '    c_p_1["p-1<br/>primary"]',
                '    c_p_1_ew[/"east-west gateway<br/>address known after apply"/]',
                "    c_p_1 --- c_p_1_ew",
                '    c_p2["p2<br/>primary"]',
                '    c_r1["r1<br/>remote"]',
                "    c_r1 -->|control plane| c_p_1",
                "    c_p_1 <-.->|read each other| c_p2",
                "    c_p_1 -.->|reads| c_r1",
                "    c_p2 -.->|reads| c_r1",
                "",
            ].join("\n"),
        );
    });

    it("escapes quotes and markup in names, so a network name cannot break the diagram", () => {
        const text = mermaidTopology({
            clusters: { a: { role: "primary", network: 'n"<b>#1', eastWestAddress: null } },
            links: {},
        });
        assert.equal(
            text,
            [
                "flowchart LR",
                '    subgraph n0["network n#34;#60;b#62;#35;1"]',
                '        c_a["a<br/>primary"]',
                "    end",
                "",
            ].join("\n"),
        );
    });

    it("refuses a plan without the `clusters` output", () => {
        assert.throws(() => mermaidTopology({}), {
            message: "the plan has no `clusters` output to draw the mesh from",
        });
    });

    for (const stack of ["dev", "prod"]) {
        it(`the README's ${stack} diagram is what \`npm run plan -- --stack ${stack} --mermaid\` prints`, async () => {
            const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
            const marker = `<!-- mermaid:${stack} (npm run plan -- --stack ${stack} --mermaid) -->\n`;
            const at = readme.indexOf(marker);
            assert.ok(at >= 0, `README.md has no ${JSON.stringify(marker.trim())}`);
            // The block right after the marker (Prettier puts a blank line between them).
            const start = readme.indexOf("```mermaid\n", at);
            assert.equal(
                readme.slice(at + marker.length, start).trim(),
                "",
                "the diagram follows its marker",
            );
            const end = readme.indexOf("```\n", start + 3) + 4;
            const expected = mermaidBlock((await plan(loadStackFile(stack))).outputs);
            if (process.env.UPDATE_GOLDEN === "1") {
                const file = path.join(repoRoot, "README.md");
                fs.writeFileSync(file, readme.slice(0, start) + expected + readme.slice(end));
                return;
            }
            assert.equal(
                readme.slice(start, end),
                expected,
                `README.md's ${stack} diagram is stale: UPDATE_GOLDEN=1 npx mocha test/tools/mermaid.test.ts rewrites it`,
            );
        });
    }
});
