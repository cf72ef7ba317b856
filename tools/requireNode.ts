/**
 * Imported first by every command-line tool and preloaded by every test tier (package.json, .mocharc*.json):
 * on a Node.js the program does not support, one line on stderr and exit 1 before anything else loads.
 */
import { nodeVersionProblem } from "../stacks/nodeRuntime";

const problem = nodeVersionProblem(process.version);
if (problem !== undefined) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
}
