module.exports = {
  displayName: 'chunk-client',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
