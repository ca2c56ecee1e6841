// Builds dist/ the way Grafana's create-plugin scaffold does: an AMD module
// whose Grafana packages are provided by the running Grafana, plugin.json and
// the assets copied beside it, %VERSION% and %TODAY% filled in.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');
const ReplaceInFileWebpackPlugin = require('replace-in-file-webpack-plugin');

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const pkg = require(path.join(ROOT, 'package.json'));
const pluginJson = require(path.join(SRC, 'plugin.json'));

// What Grafana shares with plugins at run time (SystemJS/AMD); bundling our
// own copies would break React contexts and themes.
const EXTERNALS = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'rxjs/operators',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
];

module.exports = (env = {}) => {
  const production = Boolean(env.production);
  return {
    context: SRC,
    mode: production ? 'production' : 'development',
    devtool: production ? 'source-map' : 'eval-source-map',
    entry: { module: './module.ts' },
    externals: EXTERNALS,
    output: {
      clean: { keep: /^gpx_/ }, // the backend binaries share dist/
      filename: '[name].js',
      library: { type: 'amd' },
      path: DIST,
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
    },
    resolve: {
      extensions: ['.ts', '.tsx', '.js', '.jsx'],
      modules: [SRC, 'node_modules'],
    },
    module: {
      rules: [
        {
          test: /\.[tj]sx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                baseUrl: SRC,
                target: 'es2020',
                loose: false,
                parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
                transform: { react: { runtime: 'classic' } },
              },
            },
          },
        },
        { test: /\.(png|jpe?g|gif|svg)$/, type: 'asset/resource', generator: { filename: 'img/[name][ext]' } },
      ],
    },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: 'README.md', to: '.' },
          { from: '../CHANGELOG.md', to: '.', noErrorOnMissing: true },
          { from: '../LICENSE', to: '.', noErrorOnMissing: true },
          { from: 'plugin.json', to: '.' },
          { from: 'img/**/*', to: '.' },
        ],
      }),
      new ReplaceInFileWebpackPlugin([
        {
          dir: DIST,
          files: ['plugin.json', 'README.md'],
          rules: [
            { search: /%VERSION%/g, replace: pkg.version },
            { search: /%TODAY%/g, replace: new Date().toISOString().substring(0, 10) },
            { search: /%PLUGIN_ID%/g, replace: pluginJson.id },
          ],
        },
      ]),
    ],
    performance: { hints: false },
  };
};
