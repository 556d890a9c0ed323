// The README's API example: load the bundled target/draft pair (different tokenizers) and stream an
// assisted greedy generation. Build: cmake --build build --target uag_embed_example
#include <cstdio>
#include <uag/uag.hpp>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : UAG_BUNDLED_MODELS_DIR;
  using pretrained = uag::model_with_tokenizer<uag::transformer, uag::hf_tokenizer>;
  try {
    pretrained target(uag::transformer::from_folder(dir + "/target"), uag::hf_tokenizer::from_file(dir + "/target"));
    pretrained draft(uag::transformer::from_folder(dir + "/draft"), uag::hf_tokenizer::from_file(dir + "/draft"));

    // Draft tokens reach the target through text (TokenizerBridge); identical tokenizers skip it.
    uag::bridged_draft<pretrained, uag::hf_tokenizer> source(draft, target.tokenizer());

    uag::generation_config cfg;
    cfg.max_new_tokens = 64;
    cfg.draft_policy = uag::draft_length_policy::adaptive;
    uag::AssistedGenerator<pretrained, decltype(source)> gen(target, source, cfg);
    gen.on_text([](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); });
    gen.generate("def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n");

    const auto& s = gen.stats();
    std::printf("\n%zu tokens in %zu target passes, acceptance %.2f\n", s.new_tokens, s.target_passes,
                s.acceptance_rate());
  } catch (const uag::error& e) {  // every uag failure: a typed error with a stable id
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
