module.exports = {
  displayName: 'key-reads',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
