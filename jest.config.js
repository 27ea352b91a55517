/** Unit tests: pure modules directly, Pulumi resources under the SDK's mocks. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testPathIgnorePatterns: ["/node_modules/", "/test/e2e/"],
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: false }] },
    testTimeout: 60000,
    setupFiles: ["<rootDir>/test/support/jestSetup.ts"],
    // policy/ has its own package.json for the Pulumi CLI; tests always use the root's copies,
    // so classes like the policy SDK's Secret are the same ones everywhere.
    moduleNameMapper: { "^@pulumi/(policy|docker|pulumi|random)$": "<rootDir>/node_modules/@pulumi/$1" },
};
