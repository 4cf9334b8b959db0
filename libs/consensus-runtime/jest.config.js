module.exports = {
  displayName: 'consensus-runtime',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
