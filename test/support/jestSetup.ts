// Runs before every unit test file. The tests load @pulumi/pulumi afresh (jest.resetModules)
// for each program run under mocks, and each load adds one process exit listener: expected
// here, so Node's leak warning would only be noise in the test output.
process.setMaxListeners(100);
