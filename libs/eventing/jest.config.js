module.exports = {
  displayName: 'eventing',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
