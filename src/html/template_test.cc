#include "html/template.h"

#include <gtest/gtest.h>

namespace steward::html {
namespace {

TEST(TemplateTest, EscapesByDefault) {
  Templates t;
  ASSERT_TRUE(t.Add("p", "<p title=\"{{v}}\">{{v}}</p>{{{raw}}}").ok());
  auto out = t.Render("p", Object{{"v", "<script>alert('x')&\"</script>"}, {"raw", "<b>ok</b>"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;\">"
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;</p><b>ok</b>");
}

TEST(TemplateTest, SectionsListsInvertedDottedAndPartials) {
  Templates t;
  ASSERT_TRUE(t.Add("row", "<li>{{name}} ({{site.name}})</li>").ok());
  ASSERT_TRUE(t.Add("page",
                    "{{! a comment }}<ul>{{#items}}{{> row}}{{/items}}</ul>{{^items}}none{{/items}}"
                    "{{#flag}}F{{/flag}}{{^flag}}f{{/flag}}")
                  .ok());
  Object site{{"name", "ONS"}};
  auto out = t.Render(
      "page", Object{{"site", site}, {"items", List{Object{{"name", "a"}}, Object{{"name", "b"}}}}, {"flag", false}});
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(*out, "<ul><li>a (ONS)</li><li>b (ONS)</li></ul>f");
  auto empty = t.Render("page", Object{{"items", List{}}, {"flag", true}});
  EXPECT_EQ(*empty, "<ul></ul>noneF");
}

TEST(TemplateTest, ParseErrorsNameTheLine) {
  Templates t;
  Status s = t.Add("bad", "line one\n{{#a}}\nline three\n{{/b}}\n", "web/templates/bad.html");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "web/templates/bad.html:4: {{/b}} closes {{#a}} opened on line 2");
  EXPECT_FALSE(t.Add("open", "{{#a}}x").ok());
  EXPECT_FALSE(t.Add("unclosed", "{{x").ok());
  EXPECT_EQ(t.Render("missing", Object{}).error().code, ErrorCode::kNotFound);
}

TEST(TemplateTest, SelfReferencingPartialStops) {
  Templates t;
  ASSERT_TRUE(t.Add("loop", "x{{> loop}}").ok());
  EXPECT_FALSE(t.Render("loop", Object{}).ok());
}

}  // namespace
}  // namespace steward::html
