// Runs in every Jest worker before its tests: the cluster secret every service started by a test
// (in the worker or as a child process, which inherits the environment) signs and checks with.
process.env.CAIRN_CLUSTER_SECRET ??= 'cairn-test-cluster-secret-not-for-production-000';
