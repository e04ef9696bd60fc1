"""What every experiment of run_metric.py reads: the settings, the real features and the networks (loaded once).

`RunContext(cfg)` is built once per run. cfg (an EasyDict from run_metric.make_config) holds the settings;
cfg.options (metrics.options.Options) how to compute, cfg.convention (metrics.convention.Convention) the
numerics of the official P&R. Networks are loaded on first use, so an experiment that needs none
(e.g. given feature files) downloads nothing; results.json records each one that was loaded.
"""
import os

from networks.loading import load_network


class RunContext:
    def __init__(self, cfg):
        self.cfg = cfg
        self.options = cfg.options
        self.networks = {}  # results.json 'networks': what was loaded, from where, its fingerprint
        self._loaded = {}
        self._reals = None

    def feature_net(self):
        """The feature network (cfg.feature_network, or the official VGG-16 sources)."""
        if 'feature_network' not in self._loaded:
            net = self._load(self.cfg.feature_network, 'feature network', 'feature_network')
            print('Feature network: %s, %d features' % (net.name, net.output_shape[1]))
        return self._loaded['feature_network']

    def generator(self):
        """The StyleGAN generator Gs (cfg.network, or the official FFHQ-1024 sources)."""
        if 'generator' not in self._loaded:
            Gs = self._load(self.cfg.network, 'generator', 'generator')
            print('Generator: %s, latents %s, images %s' % (Gs.name, Gs.input_shape, Gs.output_shape))
        return self._loaded['generator']

    def _load(self, given, kind, key):
        net = load_network(given, kind, self.cfg.cache_dir, trust_code=self.cfg.trust_code,
                           verbose=self.options.progress)
        self._loaded[key] = net
        self.networks[key] = {'name': net.name, 'build_func_name': net.build_func_name,
                              'source': getattr(net, 'source', None), 'load_path': net.load_path,
                              'fingerprint': net.fingerprint()}
        return net

    def reals(self):
        """The real features: FeatureArray of cfg.real_features, or CachedImageFeatures of the real images."""
        if self._reals is None:
            from features.files import load_features
            from features.store import CachedImageFeatures, FeatureArray
            cfg = self.cfg
            if cfg.real_features:
                self._reals = FeatureArray(load_features(cfg.real_features, 'real'),
                                           'features:' + os.path.abspath(cfg.real_features))
            else:
                from datasets.image_folder import ImageFolder
                from datasets.tfrecords import TFRecordImages
                source = TFRecordImages(cfg.data_dir) if cfg.data_dir else ImageFolder(cfg.real_dir)
                self._reals = CachedImageFeatures(source, self.feature_net(), self.options, cfg.feature_cache_dir)
        return self._reals
