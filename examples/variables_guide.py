"""The TensorFlow 1 "Variables" guide, top to bottom, run with jitgraph.

Every snippet of the guide appears unchanged (``import jitgraph as tf`` is the only difference);
each section runs in its own graph, as the guide's snippets are independent, and prints what the
step shows. Run: ``python examples/variables_guide.py``.
"""

import jitgraph as tf


def section(title):
    print(f"\n== {title} ==")


def new_graph():
    return tf.Graph().as_default()


section("Creating a variable")
with new_graph():
    my_variable = tf.get_variable("my_variable", [1, 2, 3])
    print(my_variable.name, my_variable.shape, my_variable.dtype.base_dtype.name)

    my_int_variable = tf.get_variable("my_int_variable", [1, 2, 3], dtype=tf.int32,
       initializer=tf.zeros_initializer)
    print(my_int_variable.name, my_int_variable.dtype.base_dtype.name)

    other_variable = tf.get_variable("other_variable", dtype=tf.int32, initializer=tf.constant([23, 42]))
    print(other_variable.name, "shape from the initializer:", other_variable.shape)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        print("values:", sess.run(my_int_variable).ravel(), sess.run(other_variable))

section("Variable collections")
with new_graph():
    my_local = tf.get_variable("my_local", shape=(),
    collections=[tf.GraphKeys.LOCAL_VARIABLES])
    my_non_trainable = tf.get_variable("my_non_trainable",
                                       shape=(),
                                       trainable=False)
    tf.add_to_collection("my_collection_name", my_local)
    print("my_collection_name:", tf.get_collection("my_collection_name"))
    print("local:", [v.name for v in tf.local_variables()],
          "global:", [v.name for v in tf.global_variables()],
          "trainable:", [v.name for v in tf.trainable_variables()])

section("Device placement")
with new_graph():
    with tf.device("/device:GPU:1"):
        v = tf.get_variable("v", [1])
    print(v.name, "placed on", v.device, "(an annotation: jitgraph runs it on the CPU)")
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        sess.run(v.initializer)
        print("value:", sess.run(v))
with new_graph():
    cluster_spec = {
        "ps": ["ps0:2222", "ps1:2222"],
        "worker": ["worker0:2222", "worker1:2222", "worker2:2222"]}
    with tf.device(tf.train.replica_device_setter(cluster=cluster_spec)):
      v = tf.get_variable("v", shape=[20, 20])  # this variable is placed
                                                # in the parameter server
                                                # by the replica_device_setter
      w = tf.get_variable("w", shape=[20, 20])
      y = v + w
    print(v.name, "->", v.device, "|", w.name, "->", w.device, "|", y.op.name, "->", y.device)

section("Initializing variables")
with new_graph():
    my_variable = tf.get_variable("my_variable", [1, 2, 3])
    other = tf.get_variable("other", [2])
    with tf.Session() as session:
        print(session.run(tf.report_uninitialized_variables()))
        session.run(my_variable.initializer)
        print(session.run(tf.report_uninitialized_variables()))
        session.run(tf.global_variables_initializer())
        # Now all variables are initialized.
        print(session.run(tf.report_uninitialized_variables()))
with new_graph():
    v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
    w = tf.get_variable("w", initializer=v.initialized_value() + 1)
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        print("v, w =", session.run([v, w]))

section("Using variables")
with new_graph():
    v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
    w = v + 1  # w is a tf.Tensor which is computed based on the value of v.
               # Any time a variable is used in an expression it gets automatically
               # converted to a tf.Tensor representing its value.
    with tf.Session() as sess:
        sess.run(v.initializer)
        print("w =", sess.run(w))
with new_graph():
    with tf.Session() as sess:
        v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
        assignment = v.assign_add(1)
        tf.global_variables_initializer().run()
        sess.run(assignment) # or assignment.op.run(), or assignment.eval()
        print("after one assign_add:", sess.run(v), "| again:", assignment.eval())
with new_graph():
    v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
    assignment = v.assign_add(1)
    with tf.control_dependencies([assignment]):
      w = v.read_value()  # w is guaranteed to reflect v's value after the
                          # assign_add operation.
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        print("read_value after assign_add:", sess.run(w), sess.run(w))

section("Sharing variables")


def conv_relu(input, kernel_shape, bias_shape):
    # Create variable named "weights".
    weights = tf.get_variable("weights", kernel_shape,
        initializer=tf.random_normal_initializer())
    # Create variable named "biases".
    biases = tf.get_variable("biases", bias_shape,
        initializer=tf.constant_initializer(0.0))
    conv = tf.nn.conv2d(input, weights,
        strides=[1, 1, 1, 1], padding='SAME')
    return tf.nn.relu(conv + biases)


def my_image_filter(input_images):
    with tf.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with tf.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


def sharing():
    with new_graph():
        input1 = tf.random_normal([1,10,10,32])
        input2 = tf.random_normal([1,20,20,32])
        x = conv_relu(input1, kernel_shape=[5, 5, 32, 32], bias_shape=[32])
        try:
            x = conv_relu(x, kernel_shape=[5, 5, 32, 32], bias_shape = [32]) # This fails.
        except ValueError as e:
            print("second conv_relu call fails:", str(e).splitlines()[0])

    for variant in ("reuse=True", "scope.reuse_variables()", "scope object"):
        with new_graph():
            input1 = tf.random_normal([1,10,10,32])
            input2 = tf.random_normal([1,20,20,32])
            if variant == "reuse=True":
                with tf.variable_scope("model"):
                  output1 = my_image_filter(input1)
                with tf.variable_scope("model", reuse=True):
                  output2 = my_image_filter(input2)
            elif variant == "scope.reuse_variables()":
                with tf.variable_scope("model") as scope:
                  output1 = my_image_filter(input1)
                  scope.reuse_variables()
                  output2 = my_image_filter(input2)
            else:
                with tf.variable_scope("model") as scope:
                  output1 = my_image_filter(input1)
                with tf.variable_scope(scope, reuse=True):
                  output2 = my_image_filter(input2)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                o1, o2 = sess.run([output1, output2])
            print(f"{variant}: variables {[v.name for v in tf.global_variables()]}, "
                  f"outputs {o1.shape} {o2.shape}, ops {output1.op.name} / {output2.op.name}")


missing = [name for name, ok in (("tf.nn.conv2d", hasattr(tf.nn, "conv2d")),
                                 ("tf.random_normal", hasattr(tf, "random_normal"))) if not ok]
if missing:
    print(f"(skipped: {', '.join(missing)} not available in this jitgraph build yet)")
else:
    sharing()
