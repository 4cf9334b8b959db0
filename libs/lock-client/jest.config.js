module.exports = {
  displayName: 'lock-client',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
