/** The plan-graph helpers the server tier applies in: creation order and what waits on what. */
import { strict as assert } from "node:assert";
import { dependencyOrder, dependents } from "../../tools/graph";
import { PlannedResource } from "../../tools/planner";

const r = (urn: string, dependsOn: string[] = []): PlannedResource =>
    ({ urn, name: urn, type: "t", dependsOn, custom: true }) as unknown as PlannedResource;

describe("plan graph", () => {
    const plan = [r("c", ["b"]), r("b", ["a"]), r("a"), r("d", ["a"])];

    it("orders every resource after what it depends on, stably otherwise", () => {
        assert.deepEqual(
            dependencyOrder(plan).map((x) => x.urn),
            ["a", "b", "c", "d"],
        );
        assert.throws(() => dependencyOrder([r("x", ["y"]), r("y", ["x"])]), /dependency cycle through x/);
    });

    it("finds everything that waits on a source, directly or through others, not the source", () => {
        assert.deepEqual([...dependents(plan, new Set(["b"]))], ["c"]);
        assert.deepEqual([...dependents(plan, new Set(["a"]))].sort(), ["b", "c", "d"]);
    });
});
