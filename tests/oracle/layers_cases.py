"""``tf.layers`` cases recorded from TensorFlow (tf_keras legacy layers) by ``record_layers.py``
and replayed on jitgraph by ``tests/layers/test_layers_oracle.py``.

Each case: ``shape`` of the float32 input (``None`` entries stay unknown in the placeholder;
``feed`` gives the concrete shape), ``build(tf, x[, training])`` → output tensor or ``(output,
layer)``, ``training``: values fed to a bool placeholder (None: no placeholder), ``keep_init``:
keep the initializers' values instead of loading random ones (deterministic initializers only).
"""


def _class_twice(tf, x):
    layer = tf.layers.Dense(3, activation=tf.nn.tanh)
    return layer(x) + layer.apply(x * 2.0), layer


def _reuse_in_scope(tf, x):
    with tf.variable_scope("net"):
        a = tf.layers.dense(x, 3, name="fc")
    with tf.variable_scope("net", reuse=True):
        b = tf.layers.dense(x * 3.0, 3, name="fc")
    return a - b


def _mlp(tf, x):
    h = tf.layers.dense(x, 4, activation=tf.nn.tanh)
    h = tf.layers.dense(h, 3, activation=tf.nn.relu)
    return tf.layers.dense(h, 2, use_bias=False)


def _regularized(tf, x):
    return tf.layers.dense(x, 3, kernel_regularizer=lambda w: 0.1 * tf.reduce_sum(tf.square(w)),
                           bias_regularizer=lambda b: tf.reduce_sum(b),
                           activity_regularizer=lambda t: 0.01 * tf.reduce_sum(tf.abs(t)), name="reg")


def _scope_initializer(tf, x):
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.5)):
        return tf.layers.dense(x, 2) + tf.layers.conv1d(tf.reshape(x, [-1, 5, 1]), 2, 5)[:, 0, :]


def _bn_class(tf, x):
    layer = tf.layers.BatchNormalization(momentum=0.8, epsilon=0.01)
    return layer(x, training=True), layer


def _custom_layer(tf, x):
    class Scale(tf.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight("scale", [input_shape.as_list()[-1]], initializer=tf.ones_initializer())
            self.offset = self.add_weight("offset", [], trainable=False, initializer=tf.zeros_initializer())
            self.built = True

        def call(self, inputs):
            return inputs * self.scale + self.offset
    layer = Scale()
    return layer(x) + layer(2.0 * x), layer


def _cnn(tf, x):
    h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.batch_normalization(h, training=True)
    h = tf.layers.conv2d(h, 3, 2)
    h = tf.layers.average_pooling2d(h, 2, 1, padding="same")
    h = tf.layers.flatten(h)
    return tf.layers.dense(h, 2)


CASES = {
    "dense_relu": dict(shape=[3, 5], build=lambda tf, x: tf.layers.dense(x, 4, activation=tf.nn.relu)),
    "dense_rank3": dict(shape=[2, 3, 5], build=lambda tf, x: tf.layers.dense(x, 2)),
    "dense_dynamic_batch": dict(shape=[None, 5], feed=[4, 5], build=lambda tf, x: tf.layers.dense(x, 3, name="d")),
    "dense_class_twice": dict(shape=[3, 4], build=_class_twice),
    "dense_reuse_in_scope": dict(shape=[2, 4], build=_reuse_in_scope),
    "mlp_default_names": dict(shape=[3, 5], build=_mlp),
    "regularizers": dict(shape=[4, 5], build=_regularized),
    "scope_initializer": dict(shape=[3, 5], build=_scope_initializer, keep_init=True),
    "conv1d_same_strided": dict(shape=[2, 9, 3], build=lambda tf, x: tf.layers.conv1d(x, 4, 3, strides=2,
                                                                                        padding="same")),
    "conv1d_causal_dilated": dict(shape=[2, 9, 3], build=lambda tf, x: tf.layers.Conv1D(
        2, 3, padding="causal", dilation_rate=2)(x)),
    "conv2d_valid_relu": dict(shape=[2, 7, 7, 3], build=lambda tf, x: tf.layers.conv2d(
        x, 4, (3, 2), strides=2, activation=tf.nn.relu)),
    "conv2d_dilated_same": dict(shape=[1, 8, 7, 2], build=lambda tf, x: tf.layers.conv2d(
        x, 2, 3, dilation_rate=2, padding="same")),
    "conv3d_same": dict(shape=[2, 5, 6, 5, 2], build=lambda tf, x: tf.layers.conv3d(
        x, 3, 3, strides=(1, 2, 1), padding="same")),
    "conv2d_transpose_same": dict(shape=[None, 4, 4, 3], feed=[2, 4, 4, 3], build=lambda tf, x: (
        tf.layers.conv2d_transpose(x, 2, 3, strides=2, padding="same"))),
    "conv2d_transpose_valid": dict(shape=[2, 3, 4, 3], build=lambda tf, x: tf.layers.conv2d_transpose(
        x, 2, (3, 2), strides=(2, 1))),
    "conv2d_transpose_output_padding": dict(shape=[2, 3, 3, 2], build=lambda tf, x: tf.layers.Conv2DTranspose(
        2, 3, strides=2, padding="same", output_padding=1)(x)),
    "conv3d_transpose_valid": dict(shape=[1, 3, 3, 2, 2], build=lambda tf, x: tf.layers.conv3d_transpose(
        x, 2, 2, strides=2)),
    "separable_conv2d": dict(shape=[2, 6, 6, 3], build=lambda tf, x: tf.layers.separable_conv2d(
        x, 4, 3, depth_multiplier=2, padding="same")),
    "separable_conv1d": dict(shape=[2, 9, 3], build=lambda tf, x: tf.layers.separable_conv1d(x, 2, 3, strides=2)),
    "max_pooling1d": dict(shape=[2, 9, 3], build=lambda tf, x: tf.layers.max_pooling1d(x, 3, 2, padding="same")),
    "average_pooling1d": dict(shape=[2, 9, 3], build=lambda tf, x: tf.layers.average_pooling1d(x, 2, 2)),
    "max_pooling2d": dict(shape=[2, 6, 5, 3], build=lambda tf, x: tf.layers.max_pooling2d(x, 2, 2)),
    "average_pooling2d_same": dict(shape=[2, 6, 5, 3], build=lambda tf, x: tf.layers.average_pooling2d(
        x, 3, 2, padding="same")),
    "max_pooling3d": dict(shape=[1, 4, 5, 4, 2], build=lambda tf, x: tf.layers.max_pooling3d(x, 2, 2)),
    "average_pooling3d": dict(shape=[1, 4, 5, 4, 2], build=lambda tf, x: tf.layers.average_pooling3d(
        x, (2, 3, 2), (1, 2, 2), padding="same")),
    "flatten": dict(shape=[None, 3, 4], feed=[2, 3, 4], build=lambda tf, x: tf.layers.flatten(x)),
    "flatten_channels_first": dict(shape=[2, 3, 2, 2], build=lambda tf, x: tf.layers.flatten(
        x, data_format="channels_first")),
    "dropout_inference": dict(shape=[3, 4], build=lambda tf, x: tf.layers.dropout(x, 0.5)),
    "dropout_tensor_training": dict(shape=[3, 4], training=[False], build=lambda tf, x, t: tf.layers.dropout(
        x, 0.5, training=t)),
    "bn_rank2_train": dict(shape=[6, 3], build=lambda tf, x: tf.layers.batch_normalization(
        x, training=True, momentum=0.9)),
    "bn_rank4_train_fused": dict(shape=[4, 3, 3, 2], build=lambda tf, x: tf.layers.batch_normalization(
        x, training=True)),
    "bn_rank4_inference": dict(shape=[4, 3, 3, 2], build=lambda tf, x: tf.layers.batch_normalization(x)),
    "bn_axis1_train": dict(shape=[3, 2, 3, 3], build=lambda tf, x: tf.layers.batch_normalization(
        x, axis=1, training=True, momentum=0.5)),
    "bn_rank3_train": dict(shape=[2, 4, 3], build=lambda tf, x: tf.layers.batch_normalization(
        x, training=True, momentum=0.5)),
    "bn_multi_axis_train": dict(shape=[2, 3, 4, 2], build=lambda tf, x: tf.layers.batch_normalization(
        x, axis=[1, 3], training=True, momentum=0.5)),
    "bn_no_center_scale": dict(shape=[5, 3], build=lambda tf, x: tf.layers.batch_normalization(
        x, center=False, scale=False, training=True)),
    "bn_default_init_inference": dict(shape=[3, 4], keep_init=True, build=lambda tf, x: (
        tf.layers.batch_normalization(x, name="bn"))),
    "bn_tensor_training": dict(shape=[5, 3], training=[True, False], build=lambda tf, x, t: (
        tf.layers.batch_normalization(x, training=t, momentum=0.7))),
    "bn_tensor_training_fused": dict(shape=[4, 2, 2, 3], training=[True, False], build=lambda tf, x, t: (
        tf.layers.batch_normalization(x, training=t, momentum=0.7))),
    "bn_class": dict(shape=[4, 3], build=_bn_class),
    "bn_rank4_not_fused": dict(shape=[3, 2, 2, 3], build=lambda tf, x: tf.layers.batch_normalization(
        x, training=True, fused=False, momentum=0.5)),
    "custom_layer_subclass": dict(shape=[3, 4], build=lambda tf, x: _custom_layer(tf, x)),
    "cnn": dict(shape=[2, 6, 6, 2], build=_cnn),
}
