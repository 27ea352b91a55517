// Where the project is on disk: the image's build context and where the commands find the stack files.
import * as path from "node:path";

/** The repository root. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
