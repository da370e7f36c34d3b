#include "precis/data/text_clean.hpp"

#include <gtest/gtest.h>

#include "precis/data/sources.hpp"

namespace precis::data {
namespace {

TEST(TextClean, HtmlTagsScriptsAndEntities) {
  std::string html =
      "<html><head><style>p {color: red}</style><script>var x = 1 < 2;</script></head>"
      "<body><h1>Title</h1><p>Fish &amp; chips &lt;cheap&gt; &#8212; caf&eacute;&#233;</p>"
      "<!-- note --><p>Second<br>line</p></body></html>";
  EXPECT_EQ(clean_text(html, Markup::Html),
            "Title\n\nFish & chips <cheap> \u2014 caf&eacute;\u00e9\n\nSecond\nline");
}

TEST(TextClean, OsisDropsTagsAndFootnotes) {
  std::string osis =
      "In the <w lemma=\"strong:H7225\">beginning</w> God<note type=\"x\">a note</note> "
      "created.<div eID=\"gen3\" type=\"x-p\"/>Next";
  EXPECT_EQ(clean_text(osis, Markup::Osis), "In the beginning God created.\nNext");
}

TEST(TextClean, PodCommandsAndFormattingCodes) {
  std::string pod =
      "=head1 NAME\n\nperlfoo - B<bold> I<it> C<< $a->[0] >> L<text|perlfunc/open> "
      "E<lt>x E<gt>X<index>\n\n=cut\n=begin html\n<b>skip</b>\n=end html\nafter\n";
  EXPECT_EQ(clean_text(pod, Markup::Pod), "NAME\n\nperlfoo - bold it $a->[0] text <x >\n\nafter");
}

TEST(TextClean, RstAdornmentsRolesAndDirectives) {
  std::string rst =
      "=====\nTitle\n=====\n\n.. _label:\n\nUse :func:`open <io.open>` and ``len``.\n"
      "\n.. note:: Be careful\n\n:orphan:\n";
  EXPECT_EQ(clean_text(rst, Markup::Rst), "Title\n\nUse open and len.\n\nBe careful");
}

TEST(TextClean, NormalizeFixesUtf8ControlsAndBlankLines) {
  using namespace std::string_literals;
  std::string raw = "  \n\nabc  \r\nd\0e\x01\t\n\n\n\nbad \xff\xc3 ok \xc3\xa9\n\n"s;
  EXPECT_EQ(normalize_text(raw), "abc\nde\n\nbad \uFFFD\uFFFD ok \u00e9");
  // Overlong encodings and surrogates are invalid UTF-8 too.
  EXPECT_EQ(normalize_text("\xe0\x80\xafx\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFDx\uFFFD\uFFFD\uFFFD");
}

TEST(SplitEntries, SeparatorLinesAndEntryStartsGrouped) {
  auto g = split_entries("a\n%\nb\n%\nc\n%\n", "", "^%$", 2);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0], "a\n\nb\n");
  EXPECT_EQ(g[1], "c\n");
  auto j = split_entries("intro\n   :foo: n.\ndef\n   :bar: v.\nx\n", "^   :[^:]+:", "", 1);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1], "   :foo: n.\ndef\n");
}

}  // namespace
}  // namespace precis::data
