export { createTestCertificates, type TestCertificates } from "@raftkv/test-support";
