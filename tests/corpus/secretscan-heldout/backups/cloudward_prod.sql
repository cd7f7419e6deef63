-- MySQL dump 10.13  Distrib 8.0.35, for Linux (x86_64)
-- Host: rm-bp1example.mysql.rds.aliyuncs.com    Database: cloudward

DROP TABLE IF EXISTS `cloud_accounts`;
CREATE TABLE `cloud_accounts` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `access_key_id` varchar(32) NOT NULL,
  `access_key_secret` varchar(64) NOT NULL,
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

LOCK TABLES `cloud_accounts` WRITE;
INSERT INTO `cloud_accounts` VALUES (1,'prod','LTAIKJL4DzvGHMqkDHG9V3IQ','1FWTWmBOgND7kNjZ9U5x52VhJmZRSu','2024-01-09 10:22:31'),(2,'staging','LTAIhSJSJn0nPpZFku9LBqU5','txrCSFl4wLpJAboUX8Nw1Fo82RkpcA','2024-02-17 16:03:12');
UNLOCK TABLES;

DROP TABLE IF EXISTS `user_sessions`;
CREATE TABLE `user_sessions` (`sid` char(30), `user_id` int, `pw_sha1` char(40));
INSERT INTO `user_sessions` VALUES ('gG9dYXBTYrZM3yQWWQWYS39uFEb6Hl',17,'5d145465aff2c4eb6dfc9036a2349c932fdfb518'),('gXU6UfXErQ19a4vuPfWoVF97Er2eRZ',18,'782118d0d39ee3f1e60ccbee888bd710f259230f');
