module.exports = {
  displayName: 'fault-proxy',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
