"""What every experiment of run_metric.py reads: the settings, the real features and the networks (loaded once).

`RunContext(settings)` is built once per run. settings (experiments.settings: a frozen dataclass built from the
rows of experiments/registry.py) holds every setting; settings.options (metrics.options.Options) how to compute,
settings.convention (metrics.convention.Convention) the numerics of P&R. Networks are loaded on first use, so an
experiment that needs none (e.g. given feature files) downloads nothing; results.json records each one that was loaded.
"""
import os

from networks.loading import load_network


class RunContext:
    def __init__(self, settings):
        self.settings = settings
        self.options = settings.options
        self.networks = {}  # results.json 'networks': what was loaded, from where, its fingerprint
        self._loaded = {}
        self._reals = None

    def feature_net(self):
        """The feature network (settings.feature_network, or the official VGG-16 sources)."""
        if 'feature_network' not in self._loaded:
            net = self._load(self.settings.feature_network, 'feature network', 'feature_network')
            print('Feature network: %s, %d features' % (net.name, net.output_shape[1]))
        return self._loaded['feature_network']

    def generator(self):
        """The StyleGAN generator Gs (settings.network, else the protocol's or the official FFHQ-1024 StyleGAN)."""
        if 'generator' not in self._loaded:
            Gs = self._load(self.settings.network or self.settings.protocol_network, 'generator', 'generator')
            print('Generator: %s, latents %s, images %s' % (Gs.name, Gs.input_shape, Gs.output_shape))
        return self._loaded['generator']

    def _load(self, given, kind, key):
        net = load_network(given, kind, self.settings.cache_dir, trust_code=self.settings.trust_pickle_code,
                           verbose=self.options.progress)
        self._loaded[key] = net
        self.networks[key] = {'name': net.name, 'build_func_name': net.build_func_name,
                              'source': getattr(net, 'source', None), 'load_path': net.load_path,
                              'fingerprint': net.fingerprint()}
        return net

    def reals(self):
        """The real features: FeatureArray of settings.real_features, or CachedImageFeatures of the real images."""
        if self._reals is None:
            from features.files import load_features
            from features.store import CachedImageFeatures, FeatureArray
            settings = self.settings
            if settings.real_features:
                self._reals = FeatureArray(load_features(settings.real_features, 'real'),
                                           'features:' + os.path.abspath(settings.real_features))
            else:
                from datasets.image_folder import ImageFolder
                from datasets.tfrecords import TFRecordImages
                source = TFRecordImages(settings.data_dir) if settings.data_dir else ImageFolder(settings.real_dir)
                if settings.mirror_augment:
                    from datasets.mirrored import MirroredImages
                    source = MirroredImages(source, settings.random_seed)
                    print('Reals mirrored at random (--mirror_augment): %d of %d flipped'
                          % (source.flips.sum(), source.num_images))
                self._reals = CachedImageFeatures(source, self.feature_net(), self.options, settings.feature_cache_dir)
        return self._reals
