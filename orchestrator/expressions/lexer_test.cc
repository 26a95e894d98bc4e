// Tests for the shared YAQL / Jinja lexer (lexer.h): the tokens of each language, string escapes,
// numbers, columns, lexical errors and where they are reported, and the end of a Jinja tag.
#include "orchestrator/expressions/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "orchestrator/expressions/expressions.h"

namespace bora::expr::internal {
namespace {

// Every token of `src` up to the end, or the first error.
Result<std::vector<Token>> LexAll(std::string_view src, const LexerOptions& options) {
  Lexer lex(src, options);
  std::vector<Token> out;
  while (true) {
    BORA_RETURN_IF_ERROR(lex.Next());
    out.push_back(lex.tok());
    if (lex.tok().type == Tok::kEnd) return out;
  }
}

// "type:text@column" per token (`*` after a keyword), for compact comparisons.
std::string Show(std::string_view src, const LexerOptions& options) {
  auto tokens = LexAll(src, options);
  if (!tokens.ok()) return "error: " + tokens.status().message();
  std::string out;
  for (const Token& t : *tokens) {
    static const char* kNames[] = {"end", "num", "str", "name", "var", "op"};
    if (!out.empty()) out += ' ';
    out += std::string(kNames[static_cast<int>(t.type)]) + ":" + t.text + (t.keyword ? "*" : "") +
           "@" + std::to_string(t.column);
  }
  return out;
}

std::string Yaql(std::string_view src) { return Show(src, YaqlLexerOptions()); }
std::string Jinja(std::string_view src) { return Show(src, JinjaLexerOptions()); }

TEST(LexerTest, YaqlTokens) {
  EXPECT_EQ(Yaql("$.a?.b"), "var:@1 op:.@2 name:a@3 op:?.@4 name:b@6 end:end of expression@7");
  EXPECT_EQ(Yaql("$x_1 -> $"), "var:x_1@1 op:->@6 var:@9 end:end of expression@10");
  EXPECT_EQ(Yaql("a =~ b !~ c"),
            "name:a@1 op:=~@3 name:b@6 op:!~@8 name:c@11 end:end of expression@12");
  EXPECT_EQ(Yaql("f(k => 1)"),
            "name:f@1 op:(@2 name:k@3 op:=>@5 num:1@8 op:)@9 end:end of expression@10");
  EXPECT_EQ(Yaql(">= <= != = > <"),
            "op:>=@1 op:<=@4 op:!=@7 op:=@10 op:>@12 op:<@14 end:end of expression@15");
  // `==` is two `=`; Jinja-only operators are not YAQL's.
  EXPECT_EQ(Yaql("=="), "op:=@1 op:=@2 end:end of expression@3");
  EXPECT_EQ(Yaql("a ~ b"), "error: unexpected character '~' at column 3");
  EXPECT_EQ(Yaql("a | b"), "error: unexpected character '|' at column 3");
  EXPECT_EQ(
      Yaql("{a => 1}[0]"),
      "op:{@1 name:a@2 op:=>@4 num:1@7 op:}@8 op:[@9 num:0@10 op:]@11 end:end of expression@12");
  // Operator words are names with the keyword mark; `is` and `if` are not YAQL's.
  EXPECT_EQ(Yaql("and or mod in not is if"),
            "name:and*@1 name:or*@5 name:mod*@8 name:in*@12 name:not*@15 name:is@19 name:if@22 "
            "end:end of expression@24");
}

TEST(LexerTest, JinjaTokens) {
  EXPECT_EQ(Jinja("a // b ** 2"),
            "name:a@1 op://@3 name:b@6 op:**@8 num:2@11 end:end of expression@12");
  EXPECT_EQ(Jinja("x ~ y % z | f : =="),
            "name:x@1 op:~@3 name:y@5 op:%@7 name:z@9 op:|@11 name:f@13 op::@15 op:==@17 "
            "end:end of expression@19");
  // YAQL-only operators split into Jinja's.
  EXPECT_EQ(Jinja("a -> b => c"),
            "name:a@1 op:-@3 op:>@4 name:b@6 op:=@8 op:>@9 name:c@11 end:end of expression@12");
  EXPECT_EQ(Jinja("$x"), "error: unexpected character '$' at column 1");
  EXPECT_EQ(Jinja("a ?. b"), "error: unexpected character '?' at column 3");
  EXPECT_EQ(Jinja("a !~ b"), "error: unexpected character '!' at column 3");
  EXPECT_EQ(Jinja("`s`"), "error: unexpected character '`' at column 1");
  EXPECT_EQ(Jinja("_ and or if else is in not mod"),
            "name:_@1 name:and*@3 name:or*@7 name:if*@10 name:else*@13 name:is*@18 name:in*@21 "
            "name:not*@24 name:mod@28 end:end of expression@31");
}

TEST(LexerTest, Numbers) {
  EXPECT_EQ(Yaql("1 1.5 2e3 2E-3 1e+ 1."),
            "num:1@1 num:1.5@3 num:2e3@7 num:2E-3@11 num:1@16 name:e@17 op:+@18 num:1@20 op:.@21 "
            "end:end of expression@22");
  // `x.0` is a member access by index in Jinja: the dot needs a digit after it to start a fraction.
  EXPECT_EQ(Jinja("x.0"), "name:x@1 op:.@2 num:0@3 end:end of expression@4");
  // Digit separators are Jinja's only.
  EXPECT_EQ(Jinja("1_000 1_0.5_0 1e1_0"),
            "num:1000@1 num:10.50@7 num:1e10@15 end:end of expression@20");
  EXPECT_EQ(Yaql("1_000"), "num:1@1 name:_000@2 end:end of expression@6");

  auto tokens = LexAll("9223372036854775807 9223372036854775808 2.5", YaqlLexerOptions());
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE((*tokens)[0].number.is_int64());
  EXPECT_EQ((*tokens)[0].number.as_int64(), INT64_MAX);
  EXPECT_TRUE((*tokens)[1].number.is_double());  // past int64: a double
  EXPECT_EQ((*tokens)[2].number.as_double(), 2.5);

  for (const LexerOptions* options : {&YaqlLexerOptions(), &JinjaLexerOptions()}) {
    EXPECT_EQ(Show("1 + 1e999", *options),
              "error: number 1e999 is out of range: JSON numbers must be finite (at most "
              "1.7976931348623157e+308)");
  }
}

TEST(LexerTest, Strings) {
  // The escapes both languages know; unknown ones and a short \u stay as written.
  for (const LexerOptions* options : {&YaqlLexerOptions(), &JinjaLexerOptions()}) {
    Lexer lex(R"('a\n\t\r\\\'\"\u00e9\q\u00zz' "it's")", *options);
    ASSERT_TRUE(lex.Next().ok());
    EXPECT_EQ(lex.tok().type, Tok::kString);
    EXPECT_EQ(lex.tok().text, "a\n\t\r\\'\"\xC3\xA9\\q\\u00zz");
    ASSERT_TRUE(lex.Next().ok());
    EXPECT_EQ(lex.tok().text, "it's");
    EXPECT_EQ(lex.tok().column, 31);
  }
  // Backtick strings and the \` escape are YAQL's.
  EXPECT_EQ(Yaql(R"(`a\`b` 'c\`')"), "str:a`b@1 str:c`@8 end:end of expression@13");
  EXPECT_EQ(Jinja(R"('c\`')"), "str:c\\`@1 end:end of expression@6");
  // The column of an unterminated string is its opening quote's.
  EXPECT_EQ(Yaql("1 + 'abc"), "error: unterminated string at column 5");
  EXPECT_EQ(Yaql("x `abc\\`"), "error: unterminated string at column 3");
  EXPECT_EQ(Jinja("  \"abc\\"), "error: unterminated string at column 3");
}

TEST(LexerTest, WhitespaceEndAndLookahead) {
  EXPECT_EQ(Jinja(""), "end:end of expression@1");
  EXPECT_EQ(Yaql(" \t\n x \n"), "name:x@5 end:end of expression@8");
  // A copy of the lexer reads ahead; assigning it back backtracks.
  Lexer lex("not in x", JinjaLexerOptions());
  ASSERT_TRUE(lex.Next().ok());
  Lexer saved = lex;
  ASSERT_TRUE(lex.Next().ok());
  EXPECT_TRUE(lex.IsName("in"));
  lex = saved;
  EXPECT_TRUE(lex.IsName("not"));
  ASSERT_TRUE(lex.Next().ok());
  EXPECT_EQ(lex.tok().column, 5);
}

TEST(LexerTest, FindTagClose) {
  auto find = [](std::string_view text, std::string_view close) {
    size_t p = FindTagClose(text, 2, close);
    return p == std::string_view::npos ? -1 : static_cast<int>(p);
  };
  EXPECT_EQ(find("{{ x }}", "}}"), 5);
  EXPECT_EQ(find("{{ x -}}", "}}"), 6);
  EXPECT_EQ(find("{{ {'a': {'b': 1}} }}", "}}"), 19);
  EXPECT_EQ(find("{{ '}}' }}", "}}"), 8);
  EXPECT_EQ(find(R"({{ 'a\'}}' }})", "}}"), 11);
  EXPECT_EQ(find("{% if '%}' %}", "%}"), 11);
  EXPECT_EQ(find("{{ (x }}", "}}"), -1);
  EXPECT_EQ(find("{{ 'x }}", "}}"), -1);
}

// Lexical errors reach the user with the column inside the expression.
TEST(LexerTest, ErrorPositionsThroughTemplates) {
  auto error = [](std::string_view text) {
    auto t = Template::CompileString(text);
    return t.ok() ? std::string("ok") : t.status().message();
  };
  // Columns count from the first character after `<%` / `{{`.
  EXPECT_EQ(error("<% $.x + 'abc %>"),
            "invalid YAQL expression '<% $.x + 'abc %>': unterminated string at column 8");
  EXPECT_EQ(error("<% $.x ~ 1 %>"),
            "invalid YAQL expression '<% $.x ~ 1 %>': unexpected character '~' at column 6");
  EXPECT_EQ(error("{{ _.x + $y }}"),
            "invalid Jinja expression '{{ _.x + $y }}': unexpected character '$' at column 8");
  EXPECT_EQ(error("{{ 'abc }}"),
            "invalid Jinja expression '{{ 'abc }}': unterminated string at column 2");
  // A Jinja tag does not close inside a string or an open bracket.
  EXPECT_EQ(error("{% if 'x %}{% endif %}"),
            "invalid Jinja expression '{% if 'x %}{% endif %}': "
            "unterminated '{%'");
}

}  // namespace
}  // namespace bora::expr::internal
