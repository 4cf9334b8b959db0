module.exports = {
  displayName: 'erasure',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
