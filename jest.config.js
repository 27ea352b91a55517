/** Unit tests: pure modules directly, Pulumi resources under the SDK's mocks. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testPathIgnorePatterns: ["/node_modules/", "/test/e2e/"],
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: false }] },
    testTimeout: 60000,
};
