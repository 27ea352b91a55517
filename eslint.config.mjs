// Lint for the program, the agent, the policy pack, the commands, the bench and the tests:
// typescript-eslint's recommended rules and Pulumi's own rule against Outputs in template
// literals (they print "Calling [toString] on an Output<T> is not supported").
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/**", "bin/**", "coverage/**", ".state/**", "policy/node_modules/**", "policy/bin/**"] },
    ...tseslint.configs.recommended,
    {
        // Pulumi's rule needs types: the files are linted with the project's own tsconfig.
        languageOptions: {
            parserOptions: { projectService: { allowDefaultProject: ["*.js", "*.mjs"] }, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            // Unused names are compile errors already (noUnusedLocals); a leading _ marks one kept on purpose.
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
            ],
        },
    },
    {
        // Mocks, fixtures and the bench handle the SDK's and the Docker API's untyped wire format as it comes.
        files: ["test/**/*.ts", "bench/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
