// Runs before every unit test file. The tests load @pulumi/pulumi afresh (jest.resetModules)
// for each program run under mocks, and each load adds one process exit listener: expected
// here, so Node's leak warning would only be noise in the test output.
process.setMaxListeners(100);

// Pulumi's closure serializer turns a dynamic provider (components/runner/containerPidsLimit.ts) into
// the code text the engine stores and runs. Under mocks nothing runs that text, and under jest,
// which loads @pulumi/pulumi afresh for every program run, serializing costs seconds a run
// (the unit suite went from 2 to over 20 minutes). So program runs get a stand-in text here;
// test/components/containerPidsLimit.test.ts serializes the real provider with the real serializer.
jest.mock("@pulumi/pulumi/runtime/closure/serializeClosure", () => ({
    serializeFunction: async () => ({
        text: "// stand-in: the dynamic provider is not serialized under the unit tests' mocks",
        containsSecrets: false,
    }),
}));
