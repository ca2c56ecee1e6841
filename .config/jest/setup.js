require('@testing-library/jest-dom');
const { configure } = require('@testing-library/react');

// The find* queries wait for what a render brings; on a loaded machine a
// Grafana Select can take longer than the 1 s default to open. They return
// as soon as the element is there, so a long bound costs nothing when the
// machine is idle.
configure({ asyncUtilTimeout: 15000 });
