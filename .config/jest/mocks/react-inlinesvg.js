// Icons load their SVG over HTTP in Grafana; in tests an empty element will do.
const React = require('react');

function InlineSVG({ src, ...rest }) {
  return React.createElement('svg', { 'data-src': src, ...rest });
}

module.exports = { __esModule: true, default: InlineSVG, cacheStore: {} };
